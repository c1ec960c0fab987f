/** OpenFGA's error shape: `{ code, message }` with the HTTP status the real server uses for that code. */
export class FgaError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 413 | 415 | 422,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
  toJSON() {
    return { code: this.code, message: this.message };
  }
}

export const validationError = (message: string) => new FgaError(400, 'validation_error', message);
export const invalidTuple = (message: string) => new FgaError(400, 'invalid_tuple', message);
export const storeNotFound = () => new FgaError(404, 'store_id_not_found', 'store_id_not_found');
export const modelNotFound = (id: string) =>
  new FgaError(400, 'authorization_model_not_found', `Authorization Model '${id}' not found`);
export const latestModelNotFound = (storeId: string) =>
  new FgaError(400, 'latest_authorization_model_not_found', `No authorization models found for store '${storeId}'`);
export const typeNotFound = (type: string) => new FgaError(400, 'type_not_found', `type '${type}' not found`);
export const relationNotFound = (type: string, relation: string) =>
  new FgaError(400, 'relation_not_found', `relation '${type}#${relation}' not found`);
export const invalidModel = (message: string) => new FgaError(400, 'invalid_authorization_model', message);
export const tooComplex = () =>
  new FgaError(
    400,
    'authorization_model_resolution_too_complex',
    'Authorization Model resolution required too many rewrite rules to be resolved. Check your authorization model for infinite recursion or too much nesting',
  );
export const invalidContinuationToken = () => new FgaError(400, 'invalid_continuation_token', 'Invalid continuation token');

/** A client-supplied value for an error message (never coerced: `{"toString": 1}` must not throw). */
export function show(value: unknown): string {
  if (typeof value === 'string') return value.length > 100 ? `${value.slice(0, 100)}...` : value;
  try {
    const text = JSON.stringify(value) ?? typeof value;
    return text.length > 100 ? `${text.slice(0, 100)}...` : text;
  } catch {
    return typeof value;
  }
}
