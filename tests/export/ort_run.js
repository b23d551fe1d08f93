// Runs an .onnx file with onnxruntime (npm onnxruntime-node, CPU) on N inputs.
// usage: node ort_run.js MODEL.onnx IN.f32 N OUT.f32   (NODE_PATH: the folder holding
// node_modules/onnxruntime-node; scripts/setup.sh installs it)
// IN.f32 / OUT.f32: float32 inputs / outputs back to back, as for armnn_run.py.
const fs = require('fs');
const ort = require('onnxruntime-node');

async function main() {
  const [model, inPath, nStr, outPath] = process.argv.slice(2);
  const n = parseInt(nStr, 10);
  const session = await ort.InferenceSession.create(model, {intraOpNumThreads: 1});
  const input = session.inputNames[0], output = session.outputNames[0];
  const buf = fs.readFileSync(inPath);
  const all = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  const meta = session.inputMetadata ? session.inputMetadata[0] : null;
  const dims = meta && meta.shape ? meta.shape : null;
  const per = all.length / n;
  const shape = dims || [1, per];
  const outs = [];
  for (let i = 0; i < n; ++i) {
    const x = new ort.Tensor('float32', all.slice(i * per, (i + 1) * per), shape);
    const r = await session.run({[input]: x});
    outs.push(Array.from(r[output].data));
  }
  fs.writeFileSync(outPath, Buffer.from(new Float32Array(outs.flat()).buffer));
  console.log('input', input, JSON.stringify(shape), 'output', output, outs[0].length);
}

main().catch((e) => {
  console.error(e.message || e);
  process.exit(1);
});
