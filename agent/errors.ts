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
 * snooze in the past): answered with 400 and field errors, or 409 for a state conflict. */
export class InputError extends Error {
  constructor(
    readonly code: 'invalid_request' | 'consent_required',
    message: string,
    readonly fields: Array<{ path: string; message: string }> = [],
  ) {
    super(message);
    this.name = 'InputError';
  }
}
