import { startTestS3 } from '../helpers/s3.js';
import { storeConformance } from '../helpers/store-conformance.js';

storeConformance('s3rver', async () => {
  const s3 = await startTestS3();
  return { store: s3.store, bucket: s3.bucket('conformance'), close: () => s3.close() };
});
