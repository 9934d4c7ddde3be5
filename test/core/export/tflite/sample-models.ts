import { TfliteModelBuilder } from '../../../../core/export/tflite/builder.ts';
import { Rng } from '../../../../core/random.ts';
import { randomArray } from '../random-data.ts';

/** A model using every operator the builder offers; same seed -> same calls -> (must be) same bytes. */
export function buildEveryOpModel(seed: number, description = 'every operator'): TfliteModelBuilder {
  const rng = new Rng(seed);
  const m = new TfliteModelBuilder({ description });
  const x = m.input('image', [1, 9, 9, 3]);
  const side = m.input('side', [1, 5, 5, 4]);
  let t = m.conv2d(x, {
    weights: randomArray(rng, 4 * 3 * 3 * 3),
    bias: randomArray(rng, 4),
    outChannels: 4,
    kernelSize: 3,
    stride: 2,
    activation: 'relu6',
    name: 'stem',
  });
  t = m.depthwiseConv2d(t, { weights: randomArray(rng, 9 * 4), kernelSize: 3, activation: 'relu', name: 'dw' });
  t = m.hardSwish(t);
  t = m.add(t, side, { activation: 'relu' });
  const gate = m.logistic(m.mean(t, [1, 2], true));
  t = m.mul(t, gate);
  t = m.relu(t);
  t = m.relu6(t);
  t = m.pad(t, [[0, 0], [1, 0], [0, 1], [0, 0]]);
  t = m.averagePool2d(t, { filterSize: 2, stride: 2, padding: 'same' });
  t = m.maxPool2d(t, { filterSize: 2, stride: 1, padding: 'same' });
  t = m.resizeNearest(t, [6, 6]);
  const a = m.slice(t, [0, 0, 0, 0], [1, 3, -1, -1]);
  const b = m.stridedSlice(t, [0, 0, 0, 0], [1, 6, 6, 4], [1, 2, 1, 1], { beginMask: 1, endMask: 1 });
  t = m.concat([a, b], 3);
  t = m.reshape(t, [1, -1]);
  t = m.fullyConnected(t, { weights: randomArray(rng, 7 * 144), bias: randomArray(rng, 7), outUnits: 7 });
  m.output(m.softmax(t, { beta: 0.5, name: 'probabilities' }));
  m.output(gate);
  return m;
}
