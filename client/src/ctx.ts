/**
 * The host's lifecycle. Two lifetimes: `extensionDisposables` live as long as the extension;
 * `client` lives as long as one host process, and a restart replaces it without leaking.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, RevealOutputChannelOn, type DocumentSelector, State, TransportKind, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import { readConfig } from './config';
import type { NotificationDescriptor, RequestDescriptor } from './protocol';

export const WORKFLOW_SELECTOR: DocumentSelector = [
  { language: 'orchestrator-workflow' },
  { scheme: 'file', pattern: '**/workflow.{yaml,yml}' },
  { scheme: 'file', pattern: '**/*.workflow.{yaml,yml}' },
  { scheme: 'file', pattern: '**/.orchestrator/workflows/**/*.{yaml,yml}' },
  // Settings: diagnostics, completion and hover from the config schema (host/configDocuments.ts).
  { scheme: 'file', pattern: '**/.orchestrator/config.yaml' },
];

type Handler = (params: unknown) => void;

export class Ctx {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient> | undefined;
  readonly output: vscode.LogOutputChannel;
  /** Notification handlers, registered once and re-attached to every host the extension starts. */
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly hostStarted = new vscode.EventEmitter<void>();
  /** Fires each time a host (re)starts: views reload their data from it. */
  readonly onDidStartHost = this.hostStarted.event;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.output = vscode.window.createOutputChannel('Orchestrator', { log: true });
    extension.subscriptions.push(this.output, this.hostStarted);
  }

  /** Subscribes to a host notification, across host restarts. */
  onNotification<P>(n: NotificationDescriptor<P>, f: (params: P) => void): vscode.Disposable {
    let set = this.handlers.get(n.method);
    if (!set) {
      set = new Set();
      this.handlers.set(n.method, set);
      this.client?.onNotification(n.method, (p: unknown) => this.dispatch(n.method, p));
    }
    const h = f as Handler;
    set.add(h);
    return new vscode.Disposable(() => set.delete(h));
  }

  private dispatch(method: string, params: unknown): void {
    for (const h of this.handlers.get(method) ?? []) {
      try {
        h(params);
      } catch (e) {
        this.output.error(`handling ${method}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      }
    }
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
    const cfg = readConfig();
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.stdio, args: [] },
      debug: { module, transport: TransportKind.stdio, options: { execArgv: ['--nolazy', '--inspect=6009'] } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: WORKFLOW_SELECTOR,
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: {
        logLevel: cfg.logLevel,
        trusted: vscode.workspace.isTrusted,
        defaults: { ...(cfg.defaultConcurrency ? { concurrency: cfg.defaultConcurrency } : {}), ...(cfg.defaultStuckAfter ? { stuckAfter: cfg.defaultStuckAfter } : {}) },
      },
      // Restart the host when it dies (vscode-languageclient retries up to 4 times in 3 minutes).
      connectionOptions: { maxRestartCount: 4 },
    };
    const client = new LanguageClient('orchestrator', 'Orchestrator Host', serverOptions, clientOptions);
    this.client = client;
    this.output.info(`starting the orchestrator host: ${module}`);
    for (const method of this.handlers.keys()) client.onNotification(method, (p: unknown) => this.dispatch(method, p));
    await client.start();
    // After an automatic restart by vscode-languageclient (the host crashed), views reload too.
    client.onDidChangeState((e) => {
      if (e.newState === State.Running && this.client === client) this.hostStarted.fire();
    });
    this.hostStarted.fire();
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
