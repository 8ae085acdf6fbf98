// Small schemas every contract uses.
import { z } from 'zod';

export const isoDateTime = z.iso.datetime({ offset: true });

/** A reason: a stable code for programs and a sentence for people. */
export const Reason = z.object({ code: z.string(), text: z.string() });
export type Reason = z.infer<typeof Reason>;
