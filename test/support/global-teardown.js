export default async function globalTeardown() {
  await globalThis.__mlmonTestCluster?.stop();
}
