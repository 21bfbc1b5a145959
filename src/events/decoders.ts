import { adapters } from './adapters/index.js';
import { createDecoder, type Decoder, type RecordMapper } from './decode.js';
import { createFingerprinter } from './secrets.js';
import { createValidator } from './validate.js';

/**
 * One decoder per input format (`choir` and every adapter), built once: the schema compiled once,
 * adapters bound to the fingerprint key. Decode workers build their own from the same key.
 */
export function decodersFor(fingerprintKey: string): (format: string) => Decoder | null {
  const validate = createValidator();
  const fingerprint = createFingerprinter(fingerprintKey);
  const decoders = new Map<string, Decoder>([
    ['choir', createDecoder({ validate, fingerprint, mapper: null })],
  ]);
  for (const [format, adapter] of Object.entries(adapters)) {
    const mapper: RecordMapper = (record) => adapter.map(record, { fingerprint });
    decoders.set(format, createDecoder({ validate, fingerprint, mapper }));
  }
  return (format) => decoders.get(format) ?? null;
}
