import { parentPort, workerData } from 'node:worker_threads';
import { decodersFor } from '../events/decoders.js';
import { type DecodeRequest, decodeRequest } from './decodeBatch.js';

/** A decode worker (decodePool.ts): requests in, replies out, in order, each tagged with its id. */
const decoderFor = decodersFor((workerData as { fingerprintKey: string }).fingerprintKey);

parentPort!.on('message', ({ id, request }: { id: number; request: DecodeRequest }) => {
  try {
    const { reply, transfer } = decodeRequest(request, decoderFor);
    parentPort!.postMessage({ id, reply }, transfer);
  } catch (err) {
    parentPort!.postMessage({ id, error: (err as Error).message });
  }
});
