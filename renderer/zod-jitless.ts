// Zod compiles fast parsers with `new Function`, and probes for it when a schema is built. The
// dashboard's CSP forbids eval, so the probe would be reported as a CSP violation on every load.
// Imported first by main.tsx, so this runs before protocol/ builds its schemas.
import { z } from 'zod';

z.config({ jitless: true });
