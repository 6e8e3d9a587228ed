/** berth's image builder: Node tasks without a daemon, Dockerfiles through docker buildx / podman / buildah. */
export { APP_FILE, imageContentTag } from './assemble.js';
export { DEFAULT_NODE_BASE } from './base.js';
export { buildNodeImage } from './build.js';
export { buildDockerfileImage, findImageBuilder, NO_BUILDER_MESSAGE } from './builders.js';
export { pushLayout } from './push.js';
export { isLoopbackRegistry, parseImageReference, parsePushTarget } from './reference.js';
export { RegistryClient } from './registry.js';
export * from './types.js';
