import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { ErrorBody, ErrorCode } from '../shared/protocol.js';

/**
 * Every error the collector answers with: an HTTP status, a short code and a sentence naming the
 * bad field or limit, sent as the JSON body `{ error, detail }` (shared `ErrorBody`).
 */
export class ApiError extends HTTPException {
  override name = 'ApiError';
  constructor(
    status: ContentfulStatusCode,
    readonly code: ErrorCode,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
    /** The field at fault, as a path, for `invalid-field` (ErrorBody.field). */
    readonly field?: string,
  ) {
    super(status, { message: `${code}: ${detail}` });
  }

  override getResponse(): Response {
    return errorResponse(this.status as ContentfulStatusCode, this.code, this.detail, this.headers, this.field);
  }
}

/** The 400 for a failed validation, naming the field in the body too. */
export const fieldRefusal = (e: FieldError): ApiError => new ApiError(400, 'invalid-field', e.message, {}, e.field);

export const errorResponse = (
  status: ContentfulStatusCode,
  code: ErrorCode,
  detail: string,
  headers: Record<string, string> = {},
  field?: string,
): Response => {
  const body: ErrorBody = field === undefined ? { error: code, detail } : { error: code, detail, field };
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-ferry-error': code, ...headers },
  });
};

export const badRequest = (code: ErrorCode, detail: string): ApiError => new ApiError(400, code, detail);
export const tooLarge = (detail: string): ApiError => new ApiError(413, 'too-large', detail);

/** A validation failure naming the field (a dotted path such as `sessions[3].counts.error`). */
export class FieldError extends Error {
  override name = 'FieldError';
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}
