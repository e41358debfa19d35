/**
 * The metric names a PromQL expression (or a Grafana variable query) reads, found by a light scan
 * rather than a full parser: strings, label matchers, ranges, Grafana variables and grouping label
 * lists are blanked first, then every identifier left that is not a function or keyword is a
 * metric name. Good enough for the expressions Cistern writes; it errs towards reporting too much.
 */

const FUNCTIONS = [
  'abs', 'absent', 'absent_over_time', 'acos', 'acosh', 'asin', 'asinh', 'atan', 'atanh', 'avg_over_time', 'ceil', 'changes',
  'clamp', 'clamp_max', 'clamp_min', 'cos', 'cosh', 'count_over_time', 'day_of_month', 'day_of_week', 'day_of_year',
  'days_in_month', 'deg', 'delta', 'deriv', 'double_exponential_smoothing', 'exp', 'first_over_time', 'floor',
  'histogram_avg', 'histogram_count', 'histogram_fraction', 'histogram_quantile', 'histogram_stddev', 'histogram_stdvar',
  'histogram_sum', 'holt_winters', 'hour', 'idelta', 'increase', 'info', 'irate', 'label_join', 'label_replace',
  'last_over_time', 'ln', 'log10', 'log2', 'mad_over_time', 'max_over_time', 'min_over_time', 'minute', 'month', 'pi',
  'predict_linear', 'present_over_time', 'quantile_over_time', 'rad', 'rate', 'resets', 'round', 'scalar', 'sgn', 'sin',
  'sinh', 'sort', 'sort_by_label', 'sort_by_label_desc', 'sort_desc', 'sqrt', 'stddev_over_time', 'stdvar_over_time',
  'sum_over_time', 'tan', 'tanh', 'time', 'timestamp', 'ts_of_max_over_time', 'ts_of_min_over_time', 'vector', 'year',
];
const AGGREGATIONS = [
  'avg', 'bottomk', 'count', 'count_values', 'group', 'limit_ratio', 'limitk', 'max', 'min', 'quantile', 'stddev', 'stdvar',
  'sum', 'topk',
];
const KEYWORDS = [
  'and', 'atan2', 'bool', 'by', 'end', 'group_left', 'group_right', 'ignoring', 'inf', 'nan', 'offset', 'on', 'or', 'start',
  'unless', 'without',
];
/** Grafana's Prometheus variable-query functions. */
const TEMPLATE_FUNCTIONS = ['label_names', 'label_values', 'metrics', 'query_result'];

const NOT_METRICS = new Set([...FUNCTIONS, ...AGGREGATIONS, ...KEYWORDS, ...TEMPLATE_FUNCTIONS]);

/** Every metric name `expr` reads, sorted and without duplicates. */
export function metricNamesInPromQL(expr: string): string[] {
  const names = new Set<string>();
  for (const match of expr.matchAll(/\b__name__\s*=\s*"([^"]+)"/g)) names.add(match[1] ?? '');
  const blanked = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\$\{[^}]*\}|\$\w+|\[\[\w+\]\]/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ')
    // label_values(label) names a label; label_values(selector, label) reads the selector's metric.
    .replace(/\blabel_values\s*\(\s*[A-Za-z_]\w*\s*\)/g, ' ')
    .replace(/\blabel_values\s*\(([^,()]*),\s*[A-Za-z_]\w*\s*\)/g, ' $1 ');
  for (const match of blanked.matchAll(/(?<![\w:.])[A-Za-z_:][\w:]*/g)) {
    const name = match[0];
    if (!NOT_METRICS.has(name.toLowerCase())) names.add(name);
  }
  return [...names].sort();
}
