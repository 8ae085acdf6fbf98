// `offhours commp FILE`: the piece commitment of a local file, as a deal would state it.
import { statSync } from 'node:fs';
import { commpFile } from '../workers/seal/commp.js';
import { CliError, EXIT } from './api-client.js';

export async function commpCommand(file: string, json: boolean): Promise<string> {
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`, EXIT.failed);
  }
  if (!isFile) throw new CliError(`${file} is not a regular file`, EXIT.usage);
  let c;
  try {
    c = await commpFile(file);
  } catch (err) {
    if (err instanceof RangeError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
  if (json) return JSON.stringify({ file, payloadSize: c.payloadSize, paddedSize: c.paddedSize, padding: c.padding, height: c.height, cidV1: c.cidV1, cidV2: c.cidV2 }, null, 2);
  return [`payload size  ${c.payloadSize} bytes`, `piece size    ${c.paddedSize} bytes (padded)`, `piece CID v1  ${c.cidV1}`, `piece CID v2  ${c.cidV2}`].join('\n');
}
