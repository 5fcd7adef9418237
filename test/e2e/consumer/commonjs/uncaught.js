// An error the package throws and nobody catches: Node prints its class's name.
const { MisuseError } = require('webgpu-mlp');
throw new MisuseError('used the wrong way');
