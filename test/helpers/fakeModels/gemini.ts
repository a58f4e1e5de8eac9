/**
 * Gemini API (gemini-cli): `POST /v1beta/models/<model>:streamGenerateContent?alt=sse`, one
 * GenerateContentResponse per `data:` event. gemini-cli rejects a stream without a finishReason
 * or without text, so the last text chunk carries `finishReason: STOP` and `usageMetadata`
 * (cutting before it leaves a stream with no finish reason).
 */
import { sse, type StreamPlan, type WireStream } from './types';

export function geminiStream(p: StreamPlan): WireStream {
  const last = p.chunks.length - 1;
  const deltas = p.chunks.map((text, i) => sse(geminiChunk(p, text, i === last)));
  return { prologue: '', deltas, epilogue: '' };
}

function geminiChunk(p: StreamPlan, text: string, final: boolean) {
  return {
    candidates: [{ content: { role: 'model', parts: [{ text }] }, index: 0, ...(final ? { finishReason: 'STOP' } : {}) }],
    ...(final ? { usageMetadata: { promptTokenCount: p.usage.input, candidatesTokenCount: p.usage.output, totalTokenCount: p.usage.input + p.usage.output, cachedContentTokenCount: p.usage.cached ?? 0 } } : {}),
    modelVersion: p.model,
    responseId: p.id,
  };
}

/** `:generateContent` (not streamed): the whole answer in one response. */
export function geminiJson(p: StreamPlan): unknown {
  return geminiChunk(p, p.chunks.join(''), true);
}

const STATUS: Record<number, string> = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 429: 'RESOURCE_EXHAUSTED', 500: 'INTERNAL', 503: 'UNAVAILABLE' };

export function geminiError(status: number, message: string, retryAfterSeconds?: number): unknown {
  const details = retryAfterSeconds === undefined ? [] : [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryAfterSeconds}s` }];
  return { error: { code: status, message, status: STATUS[status] ?? 'UNKNOWN', details } };
}

/** The model named in a Gemini path (`/v1beta/models/<model>:<method>`), and the method. */
export function geminiPath(pathname: string): { model: string; method: string } | undefined {
  const m = /\/models\/([^/:]+):([A-Za-z]+)$/.exec(pathname);
  return m ? { model: decodeURIComponent(m[1]), method: m[2] } : undefined;
}

export const geminiModels = (model: string): unknown => ({ models: [{ name: `models/${model}`, displayName: model, supportedGenerationMethods: ['generateContent', 'streamGenerateContent', 'countTokens'] }] });
