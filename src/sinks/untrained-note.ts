/**
 * What files made with an untrained (generated) model say about it, so the
 * label travels with the file and not only with the run's console: a
 * video's container comment, a point cloud's header.
 */
export function untrainedNote(label: string): string {
  return `depth-video, model ${label}: UNTRAINED TEST MODEL, generated weights, NOT real depth`;
}
