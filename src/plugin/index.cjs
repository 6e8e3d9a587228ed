'use strict';

/**
 * berth's Serverless Framework plugin (osls). Serverless loads plugins with `require`, so this shim is
 * CommonJS; the work happens in hooks.js (ESM, built from hooks.ts into dist/plugin/), imported the first
 * time a hook runs. Configuration is read in hooks only.
 *
 *   plugins:
 *     - berth/plugin        # or ./dist/plugin/index.cjs inside this repository (after npm run build)
 */
const configSchema = require('./configSchema.cjs');

let implementation;
async function load() {
  if (!implementation) {
    implementation = await import('./hooks.js');
  }
  return implementation;
}

class BerthServerlessPlugin {
  constructor(serverless, _options, utils) {
    this.serverless = serverless;
    this.log = utils?.log;
    this.state = {};
    serverless.configSchemaHandler.defineCustomProperties({
      type: 'object',
      properties: { berth: configSchema },
    });
    const run = (name) => async () => (await load())[name](this.serverless, this.state, this.log);
    this.hooks = {
      // Functions are added before packaging starts: later hooks would leave their log groups dangling.
      'before:package:initialize': run('addFunctions'),
      'after:package:compileEvents': run('mergeResources'),
      // After the service's own `resources` are merged, before the template is written.
      'after:aws:package:finalize:mergeCustomProviderResources': run('checkTemplate'),
      // Before the service stack: image repositories (their own stack), build + push, scan gate, pin digests.
      'before:deploy:deploy': run('deployImages'),
    };
  }
}

module.exports = BerthServerlessPlugin;
