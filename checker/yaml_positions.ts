/**
 * A YAML (or JSON) file as one document: its value, and the line and column
 * of the node a path of segments leads to.
 *
 * @module
 */
import {
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseAllDocuments,
} from "yaml";
import type { CheckIssue, Segment } from "./issues.ts";

/**
 * How many alias expansions a document may take (the `yaml` library's
 * `maxAliasCount`): plenty for hand-written anchors, far below what an alias
 * bomb (a few lines that expand to billions of nodes) needs.
 */
export const MAX_ALIAS_COUNT = 1000;

/** The one line that stands for an alias bomb, where an issue or an error says it. */
export const ALIAS_BOMB =
  `YAML aliases expand too far (more than ${MAX_ALIAS_COUNT} alias expansions): refused as an alias bomb`;

/** Whether `error` is the `yaml` library refusing to expand aliases further. */
export function isAliasBomb(error: unknown): boolean {
  return error instanceof ReferenceError && /alias/i.test(error.message);
}

/** A 1-based line and column in the text. */
export interface Position {
  line: number;
  column: number;
}

/** The one document of a text, or why the text is not one valid YAML document. */
export type ParsedDocument =
  | {
    value: unknown;
    /** Where the node at `segments` (or the deepest one on the way) starts. */
    positionOf(segments: Segment[]): Position | undefined;
  }
  | { problems: CheckIssue[] };

/** Parses `text` as exactly one YAML document, keeping positions. */
export function parseOneDocument(text: string): ParsedDocument {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, {
    lineCounter,
    merge: true,
    prettyErrors: false,
  });
  if (!Array.isArray(documents)) {
    return {
      problems: [{ path: "", message: "empty file", severity: "error" }],
    };
  }
  if (documents.length !== 1) {
    return {
      problems: [{
        path: "",
        message: `expected one YAML document, found ${documents.length}`,
        severity: "error",
      }],
    };
  }
  const document = documents[0];
  if (document.errors.length > 0) {
    return {
      problems: document.errors.map((problem) => {
        const position = lineCounter.linePos(problem.pos[0]);
        return {
          path: "",
          message: `YAML: ${problem.message.split("\n")[0]}`,
          severity: "error" as const,
          line: position.line,
          column: position.col,
        };
      }),
    };
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    if (!isAliasBomb(error)) throw error;
    return { problems: [{ path: "", message: ALIAS_BOMB, severity: "error" }] };
  }
  return { value, positionOf: positions(document.contents, lineCounter) };
}

/** One YAML document of a text: its value and where its nodes start. */
export interface LocatedDocument {
  /** The document as plain values. */
  value: unknown;
  /** Where the node at `segments` (or the deepest one on the way) starts. */
  positionOf(segments: Segment[]): Position | undefined;
}

/**
 * Every document of a text, keeping positions; undefined when the text has a
 * YAML syntax error (the bootstrap check words those). Throws a
 * `ReferenceError` ({@link isAliasBomb}) for an alias bomb.
 */
export function parseDocuments(text: string): LocatedDocument[] | undefined {
  const lineCounter = new LineCounter();
  const documents = parseAllDocuments(text, {
    lineCounter,
    prettyErrors: false,
  });
  if (
    !Array.isArray(documents) || documents.some((doc) => doc.errors.length > 0)
  ) return undefined;
  return documents.map((document) => ({
    value: document.toJS({ maxAliasCount: MAX_ALIAS_COUNT }),
    positionOf: positions(document.contents, lineCounter),
  }));
}

function positions(
  root: unknown,
  lineCounter: LineCounter,
): (segments: Segment[]) => Position | undefined {
  return (segments) => {
    const node = deepestNode(root, segments);
    if (!node?.range) return undefined;
    const position = lineCounter.linePos(node.range[0]);
    return { line: position.line, column: position.col };
  };
}

/** The YAML node at `segments`, or the deepest one that exists on the way. */
function deepestNode(root: unknown, segments: Segment[]): Node | undefined {
  let node: unknown = root;
  let found: Node | undefined = isNode(root) ? root : undefined;
  for (const [index, segment] of segments.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((item) =>
        isPair(item) && isScalar(item.key) && item.key.value === segment
      );
      if (!pair) break;
      // A field's issue points at its key: the start of its line.
      if (
        isNode(pair.key) &&
        (index === segments.length - 1 || !isNode(pair.value))
      ) return pair.key;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number") {
      node = node.items[segment];
    } else break;
    if (isNode(node)) found = node;
    else break;
  }
  return found;
}
