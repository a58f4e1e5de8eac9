/**
 * Which API a request to the fake model server is for, and whether it is the agent's turn (the
 * "main" request, which takes the next scripted answer) or a side request the CLI makes on its own
 * (a title, a token count, a model list), which gets a harmless answer and leaves the script alone.
 *
 * A main request is one that offers the model tools: every agent CLI sends its tool definitions with
 * the turn itself, and none with its side requests (opencode's title, claude's haiku calls).
 */
import { geminiPath } from './gemini';
import type { Wire } from './types';

export type RouteKind =
  | { kind: 'turn'; wire: Wire; stream: boolean; model: string; main: boolean }
  | { kind: 'count-tokens'; wire: 'anthropic' | 'gemini' }
  | { kind: 'models'; wire: Wire }
  | { kind: 'unknown' };

function hasTools(wire: Wire, body: Record<string, unknown>): boolean {
  const tools = body.tools;
  if (!Array.isArray(tools) || tools.length === 0) return false;
  if (wire !== 'gemini') return true;
  return tools.some((t: { functionDeclarations?: unknown[] }) => Array.isArray(t?.functionDeclarations) && t.functionDeclarations.length > 0);
}

export function route(method: string, pathname: string, body: unknown): RouteKind {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const model = typeof b.model === 'string' ? b.model : 'fake-model';
  if (method === 'GET' && /\/models\/?$/.test(pathname)) {
    if (pathname.includes('/v1beta/')) return { kind: 'models', wire: 'gemini' };
    return { kind: 'models', wire: 'openai-chat' };
  }
  if (method !== 'POST') return { kind: 'unknown' };
  if (/\/messages\/count_tokens$/.test(pathname)) return { kind: 'count-tokens', wire: 'anthropic' };
  if (/\/messages$/.test(pathname)) return { kind: 'turn', wire: 'anthropic', stream: b.stream === true, model, main: hasTools('anthropic', b) };
  if (/\/chat\/completions$/.test(pathname)) return { kind: 'turn', wire: 'openai-chat', stream: b.stream === true, model, main: hasTools('openai-chat', b) };
  if (/\/responses$/.test(pathname)) return { kind: 'turn', wire: 'openai-responses', stream: b.stream !== false, model, main: hasTools('openai-responses', b) };
  const g = geminiPath(pathname);
  if (g?.method === 'countTokens') return { kind: 'count-tokens', wire: 'gemini' };
  if (g && (g.method === 'streamGenerateContent' || g.method === 'generateContent')) {
    return { kind: 'turn', wire: 'gemini', stream: g.method === 'streamGenerateContent', model: g.model, main: hasTools('gemini', b) };
  }
  return { kind: 'unknown' };
}
