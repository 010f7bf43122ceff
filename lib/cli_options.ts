/**
 * Parsers for option values, so that a value that does not parse is a usage
 * error (exit 2) before the command starts, naming the option and the form it
 * takes.
 */
import { InvalidArgumentError } from "commander";

/** A path that is not empty (an empty `--dir` would mean the current folder by accident). */
export function path(value: string): string {
  if (value.trim() === "") {
    throw new InvalidArgumentError(
      "the path is empty: give a file or folder name",
    );
  }
  return value;
}

/** A number of seconds greater than 0, e.g. `90` or `2.5`. */
export function seconds(value: string): number {
  const number = Number(value);
  if (value.trim() === "" || !Number.isFinite(number) || number <= 0) {
    throw new InvalidArgumentError(
      "not a number of seconds greater than 0, e.g. 90",
    );
  }
  return number;
}

/** A parser for a whole number from `min` to `max`. */
export function wholeNumber(
  min: number,
  max: number,
): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^\s*\d+\s*$/.test(value) || number < min || number > max) {
      throw new InvalidArgumentError(
        `not a whole number from ${min} to ${max}`,
      );
    }
    return number;
  };
}

/** A repeatable option's values, in the order given (`--cluster a=… --cluster b=…`). */
export function collect(value: string, previous?: string[]): string[] {
  return [...(previous ?? []), value];
}

/** A list of sources in one IPv4 /24 as help shows it: `127.0.0.10-17`. */
export function sourceRange(sources: readonly string[]): string {
  const first = sources[0] ?? "";
  const last = sources[sources.length - 1] ?? "";
  return sources.length < 2
    ? first
    : `${first}-${last.slice(last.lastIndexOf(".") + 1)}`;
}
