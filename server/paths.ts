import { fileURLToPath } from 'node:url';

/** The repository root (where package.json, app/ and .next/ live). */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
