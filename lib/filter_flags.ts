/**
 * The flags that choose the filter a command runs, declared once for every
 * command and mode that takes them (cli.ts reads them without loading
 * anything heavy; lib/filter_input.ts applies them).
 *
 * @module
 */
import { path } from "./cli_options.ts";
import { ROOT_ID } from "./routing.ts";
import type { OptionDeclaration } from "../environments/environment.ts";

/** `--filter DIR`, for every command that runs a filter. */
export const FILTER_OPTION: OptionDeclaration = {
  flags: "--filter <dir>",
  description:
    "run this filter project's module (a folder from 'wasmerang new'), built first when its sources changed; instead of --wasm",
  parse: path,
};

/** `--wasm FILE` of the modes that ship the module in an example folder (docker, istio). */
export const SHIP_WASM_OPTION: OptionDeclaration = {
  flags: "--wasm <path>",
  description: "ship this module instead of the embedded filter",
  parse: path,
};

/** How help shows the default of `up`'s root id in a mode with an example folder. */
export const FOLDER_ROOT_ID_DEFAULT =
  `the folder's when it exists, else the --filter project's, else ${ROOT_ID}`;

/** How help shows the root id's default. */
export const ROOT_ID_DEFAULT = `the project's (--filter), else ${ROOT_ID}`;

/** `--root-id NAME`, for every command that runs a filter. */
export const ROOT_ID_OPTION: OptionDeclaration = {
  flags: "--root-id <id>",
  description: "the root id the filter starts under",
  default: ROOT_ID_DEFAULT,
};
