import { DEFAULT_AGENT_PORT } from "../protocol/index.js"; console.log(DEFAULT_AGENT_PORT)
