/**
 * "Did you mean": the known name closest to a mistyped one.
 *
 * @module
 */
import { closest, distance } from "fastest-levenshtein";

/**
 * The most similar candidate, when it is close enough to be a typo. A
 * lowerCamelCase word is compared in snake_case, the spelling of the candidates.
 */
export function closestName(
  word: string,
  candidates: string[],
): string | undefined {
  if (candidates.length === 0) return undefined;
  const target = word.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
  const best = closest(target, candidates);
  return distance(target, best) <= Math.max(2, Math.floor(target.length / 4))
    ? best
    : undefined;
}
