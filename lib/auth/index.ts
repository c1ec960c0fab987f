export * from './auth';
export { StorageSessionCache, SESSION_CACHE_PREFIX, type SessionArea } from './session-cache';
