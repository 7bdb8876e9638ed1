// Decides whether a cell measured an agent doing its job. A cell where the agent traces nothing is
// invalid, never "fast": its figures are kept in the JSON but not ranked.

/** Share of failed requests under load above which a cell is not a throughput figure. */
const MAX_FAILED_SHARE = 0.01;

/**
 * @param {object} o observations of one cell
 * @param {'nothing'|'spans'|'context'|'off'} o.expects what the agent should have done
 * @param {boolean} o.callsDownstream whether the app makes an outgoing call per request
 * @returns {string[]} reasons the cell is invalid; empty when valid
 */
export function judgeCell(o) {
  const reasons = [];
  if (o.verifyOk < o.verifyRequests) {
    reasons.push(`${o.verifyRequests - o.verifyOk}/${o.verifyRequests} check requests failed`);
  }
  if (o.load) {
    const failed = o.load.errors + o.load.timeouts + o.load.non2xx;
    const total = Math.max(1, o.load.requests + o.load.errors + o.load.timeouts);
    if (failed / total > MAX_FAILED_SHARE) reasons.push(`${failed} of ${total} requests failed under load`);
  }
  const allHeaders = o.backendTraced === o.backendRequests && o.backendRequests > 0;
  switch (o.expects) {
    case 'nothing':
      if (o.totalSpans > 0) reasons.push(`${o.totalSpans} spans arrived with no agent loaded`);
      break;
    case 'spans':
      if (o.verifySpans === 0) reasons.push('no spans reached the sink');
      if (o.callsDownstream && !allHeaders) {
        reasons.push(`downstream saw a trace header on ${o.backendTraced}/${o.backendRequests} calls`);
      }
      break;
    case 'context':
      if (o.totalSpans > 0) reasons.push(`${o.totalSpans} spans exported although sampling is off`);
      if (o.callsDownstream && !allHeaders) {
        reasons.push(`downstream saw a trace header on ${o.backendTraced}/${o.backendRequests} calls`);
      }
      break;
    case 'off':
      if (o.totalSpans > 0) reasons.push(`${o.totalSpans} spans exported although disabled`);
      if (o.backendTraced > 0) reasons.push('trace headers sent although disabled');
      break;
    default:
      reasons.push(`unknown expectation ${o.expects}`);
  }
  return reasons;
}

/**
 * A row that cannot prove itself (sampling off, no downstream call) stands or falls with the row
 * it mirrors in the same app and round: same instrumentation, only the sampler differs.
 */
export function applySameAs(cells, agents) {
  for (const cell of cells) {
    const agent = agents.find((a) => a.id === cell.agent);
    if (!agent?.sameAs || cell.callsDownstream) continue;
    const twin = cells.find((c) => c.app === cell.app && c.round === cell.round && c.agent === agent.sameAs);
    if (!twin || twin.invalid.length > 0) {
      cell.invalid.push(`unverifiable alone, and the '${agent.sameAs}' row of this app is invalid`);
    }
  }
}
