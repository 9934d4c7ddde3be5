/** IPC channel names shared by main.ts and preload.ts. */
export const REQUEST_CHANNEL = 'netadapt:request';
export const EVENT_CHANNEL = 'netadapt:event';
