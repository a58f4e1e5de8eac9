/** The shared protocol, as the extension sees it (one module, imported by both sides). */
export * from '../../server/src/protocol';
