/** The one formatting and tick module (core/units.ts), for the renderer: it may import only the contract. */
export * from '../../../core/units.ts';
