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
