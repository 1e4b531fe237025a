/** The synchronous route: one POST, answered when the EXPRESS workflow is done (≤ 50 images,
 * within API Gateway's 29 s). */
import { perImage, postForm, type Transport } from './transport.ts';

export const syncTransport: Transport = {
  async analyze(batch, context) {
    const answer = await postForm(batch, context, { route: 'sync' });
    return perImage(answer.body, batch.files);
  },
};
