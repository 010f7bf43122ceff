/** The environments `up`, `probe`, `down` and `scaffold` work with. */
import { UserError } from "../lib/errors.ts";

/** Every environment the tool can launch. */
export const MODES = ["local", "docker", "istio", "envoy"] as const;

/** One of {@link MODES}. */
export type Mode = typeof MODES[number];

/** Checks a mode argument, with a one-line error naming the choices. */
export function parseMode(
  text: string,
  allowed: readonly Mode[] = MODES,
): Mode {
  if (!(allowed as readonly string[]).includes(text)) {
    throw new UserError(
      `unknown mode "${text}": choose one of ${allowed.join(", ")}`,
      2,
    );
  }
  return text as Mode;
}
