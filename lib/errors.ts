/**
 * A mistake the user can fix: cli.ts prints its message as one line, without a
 * stack trace, and exits with its code.
 */
export class UserError extends Error {
  /** Process exit code: 1 for a failed job, 2 for a usage problem or an unreachable target. */
  readonly exitCode: number;

  /** A one-line `message`, and the process exit code (default 1). */
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = "UserError";
    this.exitCode = exitCode;
  }
}

/** A usage mistake (a value that does not parse, flags that clash): exit 2, before anything starts. */
export class UsageError extends UserError {
  /** A one-line `message` naming the option and the form it takes. */
  constructor(message: string) {
    super(message, 2);
    this.name = "UsageError";
  }
}
