// Prompts rendered through the model's own chat template, with its generation prompt, as a chat
// front end would send them. @huggingface/jinja (pure JS), as the calibration renderer uses: a hostile
// template cannot crash the process the way the native renderer can.
import { Template } from "@huggingface/jinja";

export interface PromptMessage {
  readonly role: string;
  readonly content: string;
}

export class ChatTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ChatTemplateError";
  }
}

export interface ChatRenderer {
  /** The text to tokenize (special tokens parsed); a leading BOS string is dropped, the tokenizer adds the BOS token. */
  render(messages: readonly PromptMessage[]): string;
}

export function chatRenderer(templateSource: string | undefined, modelName: string, bosString: string, eosString: string): ChatRenderer {
  if (!templateSource) throw new ChatTemplateError(`${modelName} has no chat template (tokenizer.chat_template); use the raw format`);
  let template: Template;
  try {
    template = new Template(templateSource);
  } catch (e) {
    throw new ChatTemplateError(`the chat template of ${modelName} does not parse: ${e instanceof Error ? e.message : String(e)}`);
  }
  return {
    render(messages) {
      let text: string;
      try {
        text = template.render({ messages: messages.map((m) => ({ role: m.role, content: m.content })), bos_token: bosString, eos_token: eosString, add_generation_prompt: true });
      } catch (e) {
        throw new ChatTemplateError(`the chat template of ${modelName} failed to render: ${e instanceof Error ? e.message : String(e)}`);
      }
      return bosString && text.startsWith(bosString) ? text.slice(bosString.length) : text;
    },
  };
}
