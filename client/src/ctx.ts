/**
 * The host's lifecycle. Two lifetimes: `extensionDisposables` live as long as the extension;
 * `client` lives as long as one host process, and a restart replaces it without leaking.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, RevealOutputChannelOn, type DocumentSelector, State, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { readConfig } from './config';
import type { RequestDescriptor } from './protocol';

export const WORKFLOW_SELECTOR: DocumentSelector = [
  { language: 'orchestrator-workflow' },
  { scheme: 'file', pattern: '**/workflow.{yaml,yml}' },
  { scheme: 'file', pattern: '**/*.workflow.{yaml,yml}' },
  { scheme: 'file', pattern: '**/.orchestrator/workflows/**/*.{yaml,yml}' },
];

export class Ctx {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient> | undefined;
  readonly output: vscode.LogOutputChannel;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('Orchestrator', { log: true });
    extension.subscriptions.push(this.output);
  }

  get running(): LanguageClient | undefined {
    return this.client?.state === State.Running ? this.client : undefined;
  }

  hostScript(): string {
    const configured = readConfig().hostPath;
    return configured || this.extension.asAbsolutePath(path.join('server', 'out', 'server.js'));
  }

  /** The running client, starting the host if needed. */
  async ensureClient(): Promise<LanguageClient> {
    if (this.client && this.client.state === State.Running) return this.client;
    this.starting ??= this.start().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async start(): Promise<LanguageClient> {
    const module = this.hostScript();
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.stdio, args: [] },
      debug: { module, transport: TransportKind.stdio, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: WORKFLOW_SELECTOR,
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: { logLevel: readConfig().logLevel, trusted: vscode.workspace.isTrusted },
      // Restart the host when it dies (vscode-languageclient retries up to 4 times in 3 minutes).
      connectionOptions: { maxRestartCount: 4 },
    };
    const client = new LanguageClient('orchestrator', 'Orchestrator Host', serverOptions, clientOptions);
    this.client = client;
    this.output.info(`starting the orchestrator host: ${module}`);
    await client.start();
    return client;
  }

  async restart(): Promise<void> {
    const old = this.client;
    this.client = undefined;
    if (old) {
      try {
        await old.stop(5000);
      } catch (e) {
        this.output.warn(`the old host did not stop cleanly: ${String(e)}`);
      }
      await old.dispose();
    }
    await this.ensureClient();
  }

  /** Sends a protocol request to the host (starting it if needed), typed by its descriptor. */
  async send<P, R>(req: RequestDescriptor<P, R>, params: P): Promise<R> {
    const client = await this.ensureClient();
    return client.sendRequest<R>(req.method, params);
  }

  async dispose(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) await c.dispose(2000);
  }
}
