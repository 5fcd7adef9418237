// A CommonJS project (no "type": "module"; module nodenext compiles these imports to require calls): every
// entry of the package loads through require, with its declarations. Prints one JSON line.
import mlp = require('webgpu-mlp');
import node = require('webgpu-mlp/node');
import vite = require('webgpu-mlp/vite');

const refused = new mlp.BadInputError('a bad value', { value: 3 });
console.log(JSON.stringify({
  names: [mlp.Model.name, mlp.BadInputError.name, refused.name, node.Model.name, node.BadInputError.name],
  isError: refused instanceof Error && refused instanceof mlp.EngineError,
  sameModel: node.Model === mlp.Model,
  plugin: vite.mnist().name,
  openNodeDevice: typeof node.openNodeDevice,
}));
