import { Initial1796317855254 } from './1796317855254-Initial';

/** Every migration, oldest first: the app, the CLI and the tests run exactly these. */
export const MIGRATIONS = [Initial1796317855254];
