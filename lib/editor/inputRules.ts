/** Markdown-style shortcuts typed at the start of a block: `# `, `- `, `1. `, `> `, three backticks. */
import {
  ellipsis,
  emDash,
  inputRules,
  smartQuotes,
  textblockTypeInputRule,
  wrappingInputRule,
  type InputRule,
} from 'prosemirror-inputrules';
import type { Plugin } from 'prosemirror-state';
import { schema } from './schema';

export function buildInputRules(): Plugin {
  const { nodes } = schema;
  const rules: InputRule[] = [
    ...smartQuotes,
    ellipsis,
    emDash,
    wrappingInputRule(/^\s*>\s$/, nodes.blockquote!),
    wrappingInputRule(
      /^(\d+)\.\s$/,
      nodes.ordered_list!,
      (match) => ({ order: Number(match[1]) }),
      (match, node) => node.childCount + (node.attrs.order as number) === Number(match[1]),
    ),
    wrappingInputRule(/^\s*([-+*])\s$/, nodes.bullet_list!),
    textblockTypeInputRule(/^```$/, nodes.code_block!),
    textblockTypeInputRule(/^(#{1,3})\s$/, nodes.heading!, (match) => ({ level: match[1]!.length })),
  ];
  return inputRules({ rules });
}
