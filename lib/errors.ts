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

/**
 * The reason in a file-system error, without Deno's operation and path:
 * `Is a directory (os error 21): readfile '/tmp'` becomes `is a directory`.
 */
export function fileErrorReason(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  const message = error instanceof Error ? error.message : String(error);
  const reason = /^(.+?) \(os error \d+\)/.exec(message)?.[1] ?? message;
  return reason.charAt(0).toLowerCase() + reason.slice(1);
}
