// The one way the UI reaches Rust: the generated bindings, unwrapped so that failures throw an ApiError.
import { commands, type Action, type ApiError, type SessionDto } from "./bindings";

export { commands };
export type { ApiError };

type Result<T, E> = { status: "ok"; data: T } | { status: "error"; error: E };

export class CommandError extends Error {
  constructor(public readonly api: ApiError) {
    super(api.message);
  }
}

export async function call<T>(result: Promise<Result<T, ApiError>>): Promise<T> {
  const r = await result;
  if (r.status === "error") throw new CommandError(r.error);
  return r.data;
}

/** The ApiError inside anything thrown, or a generic one. */
export function apiError(e: unknown): ApiError {
  if (e instanceof CommandError) return e.api;
  return { code: "unexpected", message: String(e), fields: [], retryAfterSecs: null, candidates: [], warnings: [], bookingWarnings: [] };
}

/** Whether the signed-in role may do `action`, from galen-core's permission table (which still decides each call). */
export function may(session: SessionDto, action: Action): boolean {
  return session.can.includes(action);
}
