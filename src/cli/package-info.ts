/** This package's own package.json (found from the package root, wherever this module runs from). */
export { packageInfo, type PackageInfo } from '../core/package-root.js';
