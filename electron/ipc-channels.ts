/** IPC channel names shared by main.ts and preload.ts. */
export const REQUEST_CHANNEL = 'netadapt:request';
export const EVENT_CHANNEL = 'netadapt:event';
/** Save an exported file where the user chooses (a Save dialog). */
export const SAVE_CHANNEL = 'netadapt:save-export';
/** Pick a folder (dataset folders). */
export const PICK_FOLDER_CHANNEL = 'netadapt:pick-folder';
