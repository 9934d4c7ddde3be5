/** Human-readable resource values, by unit (one implementation: core/units.ts). */
export { formatResource } from '../units.ts';
