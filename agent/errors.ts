/** An error whose message is meant for the user as it stands (no stack trace needed). */
export class UserFacingError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'UserFacingError';
  }
}

/** Input that passed the schema but not the agent's own checks (a GPU this machine lacks, a
 * snooze in the past): answered with 400 and field errors, 404 for something that is not there, or
 * 409 for a state conflict (no consent yet, no storage folder set). */
export const INPUT_ERROR_STATUS = { invalid_request: 400, not_found: 404, consent_required: 409, storage_off: 409 } as const;

export class InputError extends Error {
  constructor(
    readonly code: keyof typeof INPUT_ERROR_STATUS,
    message: string,
    readonly fields: Array<{ path: string; message: string }> = [],
  ) {
    super(message);
    this.name = 'InputError';
  }
}
