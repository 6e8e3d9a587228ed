/** Jobs in words: lives in core (the dashboard and the engine's banner use it too). */
export { describeTrigger, isoInZone, nextFire } from '../core/model/describe.js';
