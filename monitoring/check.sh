#!/bin/sh
# Checks the Prometheus rules and the Grafana dashboard of monitoring/.
#
#   monitoring/check.sh GOLDEN_DIR
#
# 1. `promtool check rules` on the rules and `promtool test rules` on their
#    unit tests (monitoring/prometheus/tests/*.yml).  promtool is required:
#    without it the check fails, it does not skip.
# 2. Every metric name the rules, their tests' input series and the
#    dashboard use is one xenshare-stat --prometheus emits (a `# TYPE` line
#    of GOLDEN_DIR/*.prom, the goldens the unit and integration tests
#    compare xenshare-stat's real output with) or one the rules record.
#    A name is what is left of a PromQL expression once strings, label
#    matchers, ranges, grouping clauses, numbers, Grafana variables,
#    function calls and operators are taken out, so `up` or a node_exporter
#    metric is refused as surely as a misspelt xenshare_ one.
# 3. The dashboard has what Grafana needs to import and draw it: a title and
#    uid, a `datasource` variable of type datasource for Prometheus, and
#    panels each with a type, a grid position, the datasource variable and
#    targets each with a refId and a non-empty expr; every expr (Grafana's
#    variables replaced) is valid PromQL for promtool.
# 4. The checker can fail: dashboards and rules broken on purpose (an
#    invented metric, `up`, no datasource variable, a target without expr,
#    a PromQL syntax error) must each be refused.
set -u
here=$(cd "$(dirname "$0")" && pwd)
golden=${1:?usage: check.sh GOLDEN_DIR}
rules=$here/prometheus/xenshare.rules.yml
dash=$here/grafana/xenshare.json
work=$(mktemp -d) || exit 1
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

command -v promtool >/dev/null ||
	fail "promtool not found: install Debian's prometheus package (scripts/packages/monitoring.txt)"
command -v jq >/dev/null || fail "jq not found (scripts/packages/monitoring.txt)"
command -v python3 >/dev/null || fail "python3 not found (scripts/packages/monitoring.txt)"

# The names xenshare-stat emits, and the names the rules record.
cat "$golden"/*.prom | awk '$1 == "#" && $2 == "TYPE" { print $3 }' | sort -u >"$work/emitted"
[ -s "$work/emitted" ] || fail "no '# TYPE' line in $golden/*.prom"

# yaml_exprs RULES: every expr of a rules file, one per line.
yaml_exprs() {
	python3 -c '
import sys, yaml
for g in yaml.safe_load(open(sys.argv[1]))["groups"]:
    for r in g["rules"]:
        print(" ".join(str(r["expr"]).split()))' "$1"
}
# yaml_records RULES: the names a rules file records.
yaml_records() {
	python3 -c '
import sys, yaml
for g in yaml.safe_load(open(sys.argv[1]))["groups"]:
    for r in g["rules"]:
        if "record" in r: print(r["record"])' "$1"
}

# names: the metric names of the PromQL expressions on stdin, one a line.
# Grafana's label_values(METRIC, LABEL) keeps only METRIC.
names() {
	sed -e 's/"\([^"\\]\|\\.\)*"//g' -e "s/'[^']*'//g" \
	    -e 's/{[^}]*}//g' -e 's/\[[^]]*\]//g' \
	    -e 's/label_values(\([^,]*\),[^)]*)/\1/g' \
	    -e 's/\$[A-Za-z_][A-Za-z0-9_]*//g' -e 's/\${[^}]*}//g' \
	    -e 's/\b\(by\|without\|on\|ignoring\|group_left\|group_right\)[[:space:]]*([^)]*)/ /g' \
	    -e 's/\b\(group_left\|group_right\)\b/ /g' \
	    -e 's/[A-Za-z_:][A-Za-z0-9_:]*[[:space:]]*(/ (/g' \
	    -e 's/\b[0-9][0-9A-Za-z.]*//g' |
		grep -oE '[A-Za-z_:][A-Za-z0-9_:]*' |
		grep -vxE 'and|or|unless|offset|bool|by|without|on|ignoring|Inf|NaN|inf|nan' |
		sort -u
}

# known_names WHAT FILE-OF-NAMES: each name must be emitted or recorded.
known_names() {
	bad=$(sort -u "$2" | comm -23 - "$work/known")
	[ -z "$bad" ] && return 0
	echo "$1 uses metrics xenshare-stat --prometheus does not emit and no rule records: $(echo $bad)"
	return 1
}

# check_rules RULES TESTS...: promtool's checks and the metric names.
check_rules() {
	r=$1
	shift
	promtool check rules "$r" >"$work/promtool.out" 2>&1 || { cat "$work/promtool.out"; return 1; }
	yaml_records "$r" >"$work/recorded" || return 1
	sort -u "$work/emitted" "$work/recorded" >"$work/known"
	yaml_exprs "$r" | names >"$work/used" || return 1
	[ -s "$work/used" ] || { echo "$r: no metric found in its expressions"; return 1; }
	known_names "$r" "$work/used" || return 1
	for t in "$@"; do
		# the input series: a name before its labels
		python3 -c '
import sys, yaml
for t in yaml.safe_load(open(sys.argv[1]))["tests"]:
    for s in t.get("input_series", []):
        print(s["series"].split("{")[0])' "$t" >"$work/series" || return 1
		known_names "$t (input series)" "$work/series" || return 1
	done
	if [ $# -gt 0 ]; then
		# promtool resolves rule_files relative to each test file: test a
		# copy of the rules beside copies of the tests
		mkdir -p "$work/t/tests"
		cp "$r" "$work/t/xenshare.rules.yml"
		for t in "$@"; do cp "$t" "$work/t/tests/"; done
		promtool test rules "$work"/t/tests/*.yml >"$work/promtool.out" 2>&1 ||
			{ cat "$work/promtool.out"; return 1; }
		rm -rf "$work/t"
	fi
	return 0
}

# check_dashboard JSON: Grafana's fields and the metric names (after
# check_rules has written $work/known).
check_dashboard() {
	d=$1
	jq -e 'type == "object"' "$d" >/dev/null 2>&1 || { echo "$d: not a JSON object"; return 1; }
	jq -e '(.title | type == "string" and length > 0) and (.uid | type == "string" and length > 0)
	       and (.schemaVersion | type == "number")' "$d" >/dev/null ||
		{ echo "$d: needs a title, a uid and a schemaVersion"; return 1; }
	jq -e '[.templating.list[]? | select(.name == "datasource" and .type == "datasource"
	        and .query == "prometheus")] | length == 1' "$d" >/dev/null ||
		{ echo "$d: no variable 'datasource' of type datasource for prometheus"; return 1; }
	jq -e '(.panels | type == "array" and length > 0)' "$d" >/dev/null ||
		{ echo "$d: no panels"; return 1; }
	bad=$(jq -r '.panels[] | select(
		(.type | type != "string" or length == 0)
		or (.id | type != "number")
		or ([.gridPos.h, .gridPos.w, .gridPos.x, .gridPos.y] | map(type) != ["number","number","number","number"])
		or (.datasource.uid != "${datasource}")
		or (.targets | type != "array" or length == 0)
		or ([.targets[] | select((.expr | type != "string" or length == 0)
		                         or (.refId | type != "string" or length == 0)
		                         or (.datasource.uid != "${datasource}"))] | length > 0)
		or ([.targets[].refId] | length != (unique | length))
		) | "panel \(.id // "?") \(.title // "?")"' "$d") || { echo "$d: jq failed"; return 1; }
	[ -z "$bad" ] || { echo "$d: panels without type, id, gridPos, the datasource variable or targets with refId and expr: $bad"; return 1; }
	[ "$(jq '[.panels[].id] | length == (unique | length)' "$d")" = true ] ||
		{ echo "$d: panel ids are not unique"; return 1; }
	bad=$(jq -r '.templating.list[] | select(.type == "query" and .datasource.uid != "${datasource}") | .name' "$d")
	[ -z "$bad" ] || { echo "$d: query variables not on the datasource variable: $bad"; return 1; }

	# the names: panel exprs and the query variables' queries
	jq -r '.panels[].targets[].expr, (.templating.list[] | select(.type == "query") | .query.query // .query)' "$d" |
		names >"$work/used" || return 1
	known_names "$d" "$work/used" || return 1

	# PromQL syntax: each expr as a recording rule for promtool, Grafana's
	# interval variables as 5m, the other variables as a regex matching all
	jq -r '"groups:", "  - name: dashboard", "    rules:",
	       (.panels[] | .id as $p | .targets[] |
	        "      - record: dashboard_panel_\($p)_\(.refId)",
	        "        expr: \(.expr | gsub("\\$__(rate_)?interval"; "5m") | gsub("\\$\\{?[A-Za-z_]+\\}?"; ".*") | @json)")' \
		"$d" >"$work/dash.rules.yml" || return 1
	promtool check rules "$work/dash.rules.yml" >"$work/promtool.out" 2>&1 ||
		{ echo "$d: an expression is not valid PromQL:"; cat "$work/promtool.out"; return 1; }
	return 0
}

# expect_refused WHAT CMD...: a deliberately broken input must fail.
expect_refused() {
	what=$1
	shift
	if "$@" >"$work/neg.out" 2>&1; then
		fail "the check accepts $what"
	fi
	echo "   refused as it must: $what ($(head -n 1 "$work/neg.out"))"
}

echo "== promtool check rules, promtool test rules, metric names: $rules"
check_rules "$rules" "$here"/prometheus/tests/*.yml || fail "rules"
echo "   $(wc -l <"$work/recorded") recorded, $(yaml_exprs "$rules" | wc -l) expressions, names all emitted or recorded"
echo "== dashboard: $dash"
check_dashboard "$dash" || fail "dashboard"
echo "   $(jq '.panels | length' "$dash") panels, $(jq '[.panels[].targets[]] | length' "$dash") targets, names all emitted or recorded, PromQL valid"

echo "== the checker refuses broken inputs"
known_copy=$work/known.ok
cp "$work/known" "$known_copy"
mut() { jq "$1" "$dash" >"$work/mut.json" && cp "$known_copy" "$work/known" && check_dashboard "$work/mut.json"; }
expect_refused "a dashboard with an invented metric" \
	mut '.panels[0].targets[0].expr = "sum(xenshare_saved_total)"'
expect_refused "a dashboard using up" \
	mut '.panels[1].targets[0].expr = "up{job=\"node\"} == 0"'
expect_refused "a dashboard without the datasource variable" \
	mut '.templating.list |= map(select(.type != "datasource"))'
expect_refused "a panel target without expr" \
	mut 'del(.panels[2].targets[0].expr)'
expect_refused "a panel without type" \
	mut 'del(.panels[3].type)'
expect_refused "a PromQL syntax error" \
	mut '.panels[4].targets[0].expr = "sum(xenshare_saved_bytes"'
sed 's/xenshare_sharing_paused == 1/xenshare_sharing_halted == 1/' "$rules" >"$work/mut.rules.yml"
expect_refused "rules with an invented metric" check_rules "$work/mut.rules.yml"
sed 's/> 0.2 \* max_over_time/> 0.05 * max_over_time/' "$rules" >"$work/mut.rules.yml"
expect_refused "rules whose savings alert fires on a 10 % drop" \
	check_rules "$work/mut.rules.yml" "$here"/prometheus/tests/*.yml
echo "check-monitoring: ok"
