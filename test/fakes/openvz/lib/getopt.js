'use strict';
/**
 * A small emulation of glibc getopt_long() as vzctl and vzlist use it: arguments are
 * permuted (options may follow operands), `--` ends the options, a long option may be
 * abbreviated to any unambiguous prefix (prefixes of aliases with the same id are not
 * ambiguous), and errors are reported with glibc's wording, prefixed by `prog` (glibc
 * prints argv[0], which for vzctl 7 is the CT id because it shifts argv before parsing).
 *
 * longopts: [{ name, hasArg, id }]; shortopts: a getopt optstring such as "Ho:".
 * Returns { options: [{ name, id, value }], operands, error } where error is the message
 * glibc prints (the caller maps it to the tool's exit code: getopt returned '?').
 */
function getoptLong(args, { prog, longopts = [], shortopts = '' }) {
  const options = [];
  const operands = [];
  const shorts = parseShortopts(shortopts);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const given = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      const exact = longopts.find((o) => o.name === given);
      let opt = exact;
      if (!opt) {
        const candidates = longopts.filter((o) => o.name.startsWith(given));
        const ids = new Set(candidates.map((o) => o.id));
        if (candidates.length === 0) {
          return { options, operands, error: `${prog}: unrecognized option '--${given}'` };
        }
        if (ids.size > 1) {
          const list = candidates.map((o) => `'--${o.name}'`).join(' ');
          return {
            options,
            operands,
            error: `${prog}: option '--${given}' is ambiguous; possibilities: ${list}`,
          };
        }
        opt = candidates[0];
      }
      if (opt.hasArg) {
        let value;
        if (eq !== -1) value = arg.slice(eq + 1);
        else if (i + 1 < args.length) value = args[++i];
        else
          return {
            options,
            operands,
            error: `${prog}: option '--${opt.name}' requires an argument`,
          };
        options.push({ name: opt.name, id: opt.id, value });
      } else {
        if (eq !== -1) {
          return {
            options,
            operands,
            error: `${prog}: option '--${opt.name}' doesn't allow an argument`,
          };
        }
        options.push({ name: opt.name, id: opt.id, value: undefined });
      }
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const ch = arg[j];
        const spec = shorts.get(ch);
        if (spec === undefined) {
          return { options, operands, error: `${prog}: invalid option -- '${ch}'` };
        }
        if (spec) {
          let value = arg.slice(j + 1);
          if (value === '') {
            if (i + 1 >= args.length) {
              return {
                options,
                operands,
                error: `${prog}: option requires an argument -- '${ch}'`,
              };
            }
            value = args[++i];
          }
          options.push({ name: ch, id: ch, value });
          break;
        }
        options.push({ name: ch, id: ch, value: undefined });
      }
      continue;
    }
    operands.push(arg);
  }
  return { options, operands, error: null };
}

function parseShortopts(optstring) {
  const map = new Map();
  for (let i = 0; i < optstring.length; i++) {
    const ch = optstring[i];
    const hasArg = optstring[i + 1] === ':';
    map.set(ch, hasArg);
    if (hasArg) i++;
  }
  return map;
}

/**
 * Builds a longopts table from groups of aliases: [['ram', 'memory'], true] gives both
 * names the same id, as the real tables do (so `--mem` is not ambiguous between them).
 */
function table(groups) {
  const out = [];
  for (const [names, hasArg] of groups) {
    const list = Array.isArray(names) ? names : [names];
    for (const name of list) out.push({ name, hasArg, id: list[0] });
  }
  return out;
}

module.exports = { getoptLong, table };
