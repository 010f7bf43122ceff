/**
 * Shared data and shared queues, kept per VM (Envoy keeps them per VM id
 * across workers; a host with one VM per id behaves the same).
 *
 * @module
 */
import { WasmResult } from "./abi.ts";

/** Key-value store with compare-and-swap tokens. */
export class SharedData {
  #entries = new Map<string, { value: Uint8Array; cas: number }>();
  #nextCas = 1;

  /** The value and its cas token, or NotFound. */
  get(key: string): { result: number; value?: Uint8Array; cas?: number } {
    const entry = this.#entries.get(key);
    if (entry === undefined) return { result: WasmResult.NotFound };
    return { result: WasmResult.Ok, value: entry.value, cas: entry.cas };
  }

  /** Stores `value`; with a non-zero `cas` only if it matches (else CasMismatch). */
  set(key: string, value: Uint8Array, cas: number): number {
    const entry = this.#entries.get(key);
    if (cas !== 0 && entry !== undefined && entry.cas !== cas) {
      return WasmResult.CasMismatch;
    }
    this.#entries.set(key, { value, cas: this.#nextCas++ });
    return WasmResult.Ok;
  }
}

/** Named queues with tokens. */
export class SharedQueues {
  #byName = new Map<string, number>();
  #queues = new Map<number, Uint8Array[]>();
  #nextToken = 1;

  /** Registers (or finds) a queue by name and returns its token. */
  register(name: string): number {
    let token = this.#byName.get(name);
    if (token === undefined) {
      token = this.#nextToken++;
      this.#byName.set(name, token);
      this.#queues.set(token, []);
    }
    return token;
  }

  /** The token of a registered queue, or undefined. */
  resolve(name: string): number | undefined {
    return this.#byName.get(name);
  }

  /** Appends data; NotFound for an unknown token. */
  enqueue(token: number, data: Uint8Array): number {
    const queue = this.#queues.get(token);
    if (queue === undefined) return WasmResult.NotFound;
    queue.push(data);
    return WasmResult.Ok;
  }

  /** Takes the oldest item; NotFound for an unknown token, Empty when none. */
  dequeue(token: number): { result: number; data?: Uint8Array } {
    const queue = this.#queues.get(token);
    if (queue === undefined) return { result: WasmResult.NotFound };
    const data = queue.shift();
    return data === undefined
      ? { result: WasmResult.Empty }
      : { result: WasmResult.Ok, data };
  }
}
