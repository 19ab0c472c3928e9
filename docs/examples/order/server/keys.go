package server

// blockedKeys are refused on direct writes.
var blockedKeys = map[string]struct{}{
	"ANTHROPIC_API_KEY": {},
	"GEMINI_API_KEY":    {},
	"OPENAI_API_KEY":    {},
}
