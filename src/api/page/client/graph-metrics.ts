/** Spacing of the state graph, in SVG user units: shared by the layout, the edge routes and the drawing. */
export const GRAPH = {
  /** Smallest width of a state's box; it grows with the name. */
  nodeW: 200,
  nodeH: 50,
  /** Space between boxes in one layer, and between layers. */
  gapX: 34,
  gapY: 54,
  /** Padding inside a parallel state's box, and the height of its title row above the branches. */
  pad: 14,
  header: 44,
  /** Space between two branches of a parallel state. */
  branchGap: 22,
  /** Distance between two detour lanes on the right. */
  lane: 14,
} as const;
