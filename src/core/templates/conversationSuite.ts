// The built-in conversations every template is rendered with. Plain chats alone hide most
// engine differences (on llama.cpp's corpus every engine pair agrees on them), so the suite
// also carries tools, tool results, reasoning, null content on tool-call messages, typed
// content parts, and both add_generation_prompt values.
import type { JsonValue, RenderContext } from "./types";

export interface SpecialTokens {
  readonly bos: string;
  readonly eos: string;
  /** End-of-turn token when the vocabulary names one (tokenizer.ggml.eot_token_id). */
  readonly eot?: string;
  /** Whether the runtime adds BOS itself (tokenizer.ggml.add_bos_token). */
  readonly addBos?: boolean;
}

export const DEFAULT_SPECIAL_TOKENS: SpecialTokens = { bos: "<s>", eos: "</s>" };

export interface SuiteConversation {
  readonly name: string;
  /** Basic conversations are what every chat template must render: plain, system, multi-turn. */
  readonly basic: boolean;
  readonly context: RenderContext;
}

type Message = { [key: string]: JsonValue };

const WEATHER_TOOL: JsonValue = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Get the current weather for a city.",
    parameters: {
      type: "object",
      properties: {
        city: { type: "string", description: "City name" },
        unit: { type: ["string", "null"], enum: ["celsius", "fahrenheit"], description: "Temperature unit" },
      },
      required: ["city"],
    },
  },
};

/** A tool without parameters: `properties` is `{}` (minja counts an empty dict as true, and its tojson(indent=2) of `{}` is wrong). */
const CLOCK_TOOL: JsonValue = {
  type: "function",
  function: { name: "get_time", description: "Get the current time.", parameters: { type: "object", properties: {} } },
};

const TOOL_CALL: JsonValue = { id: "call_0", type: "function", function: { name: "get_weather", arguments: { city: "Paris" } } };
const TOOL_RESULT: Message = { role: "tool", tool_call_id: "call_0", name: "get_weather", content: '{"temperature": 18, "unit": "celsius"}' };

const user = (content: JsonValue): Message => ({ role: "user", content });
const assistant = (content: JsonValue, extra: Message = {}): Message => ({ role: "assistant", content, ...extra });
const system = (content: string): Message => ({ role: "system", content });

function conversation(name: string, basic: boolean, messages: Message[], addGenerationPrompt: boolean, tokens: SpecialTokens, extra: RenderContext = {}): SuiteConversation {
  return {
    name,
    basic,
    context: {
      messages,
      add_generation_prompt: addGenerationPrompt,
      bos_token: tokens.bos,
      eos_token: tokens.eos,
      ...extra,
    },
  };
}

/** The suite, with special tokens taken from the GGUF when there is one. */
export function buildConversationSuite(tokens: SpecialTokens = DEFAULT_SPECIAL_TOKENS): SuiteConversation[] {
  const tools = { tools: [WEATHER_TOOL, CLOCK_TOOL] };
  return [
    conversation("plain", true, [user("Hello!"), assistant("Hi! How can I help?"), user("What is 2+2?")], true, tokens),
    // Same messages without the generation prompt: whether the template opens the assistant turn
    // by itself is decided by comparing the two renders.
    conversation("plain, generation prompt off", true, [user("Hello!"), assistant("Hi! How can I help?"), user("What is 2+2?")], false, tokens),
    conversation("plain, no generation prompt", true, [user("Hello!"), assistant("Hi! How can I help?")], false, tokens),
    conversation("system", true, [system("You are a helpful assistant."), user("Hello!")], true, tokens),
    conversation(
      "multi-turn",
      true,
      [system("You are terse."), user("Name a colour."), assistant("Blue."), user("Another one."), assistant("Red."), user("Thanks.")],
      true,
      tokens,
    ),
    conversation(
      "tools",
      false,
      [system("You can call tools."), user("Weather in Paris?"), assistant("", { tool_calls: [TOOL_CALL] }), TOOL_RESULT, assistant("It is 18 °C in Paris.")],
      false,
      tokens,
      tools,
    ),
    conversation("tool call with null content", false, [user("Weather in Paris?"), assistant(null, { tool_calls: [TOOL_CALL] }), TOOL_RESULT], true, tokens, tools),
    conversation(
      "reasoning",
      false,
      [user("What is 2+2?"), assistant("4", { reasoning_content: "Two plus two is four." }), user("And 3+3?")],
      true,
      tokens,
      { enable_thinking: true },
    ),
    // An earlier assistant turn whose content still carries its reasoning, as clients send it
    // back: templates strip it with content.split('</think>') or rsplit, branches no other
    // conversation reaches.
    conversation(
      "earlier reasoning in content",
      false,
      [user("What is 2+2?"), assistant("<think>\nTwo plus two is four.\n</think>\n\n4"), user("And 3+3?")],
      true,
      tokens,
    ),
    conversation(
      "typed content parts",
      false,
      [user([{ type: "text", text: "Describe this:" }, { type: "text", text: "a red square" }]), assistant("A red square."), user([{ type: "text", text: "Thanks" }])],
      true,
      tokens,
    ),
  ];
}
