// The widget's own words (not the bot's: those come from the server).

export interface Strings {
  openChat: string;
  closeChat: string;
  conversation: string;
  yourMessage: string;
  placeholder: string;
  send: string;
  you: string;
  assistant: string;
  agent: string;
  typing: string;
  startOver: string;
  startOverQuestion: string;
  startOverConfirm: string;
  cancel: string;
  online: string;
  connecting: string;
  offline: string;
  pending: string;
  sending: string;
  failed: string;
  retry: string;
  readArticle: string;
  related: string;
  queued: (team: string, waitMinutes: number | null) => string;
  waitingFor: (team: string) => string;
  joined: (name: string) => string;
  chattingWith: (name: string) => string;
  left: (name: string) => string;
  botBack: string;
  anAgent: string;
  ourTeam: string;
  trouble: string;
  csatQuestion: string;
  csatScore: (score: number) => string;
  csatLabels: [string, string, string, string, string];
  csatThanks: string;
  csatComment: string;
  unread: (count: number) => string;
  link: string;
  image: string;
  attachment: string;
}

const EN: Strings = {
  openChat: "Open chat",
  closeChat: "Close chat",
  conversation: "Conversation",
  yourMessage: "Your message",
  placeholder: "Type your message…",
  send: "Send",
  you: "You",
  assistant: "Assistant",
  agent: "Agent",
  typing: "The assistant is typing…",
  startOver: "Start over",
  startOverQuestion: "Start a new conversation? This one will be cleared from this browser.",
  startOverConfirm: "Yes, start over",
  cancel: "Cancel",
  online: "Online",
  connecting: "Connecting…",
  offline: "Offline: your messages will be sent when the connection is back",
  pending: "Not sent yet",
  sending: "Sending…",
  failed: "Not delivered",
  retry: "Try again",
  readArticle: "Read the article",
  related: "Related articles",
  queued: (team, wait) =>
    `Connecting you to our ${team} team…` +
    (wait === null ? "" : wait <= 1 ? " Usual wait: about a minute." : ` Usual wait: ${wait} min.`),
  waitingFor: (team) => `Waiting for our ${team} team`,
  joined: (name) => `${name} joined the conversation`,
  chattingWith: (name) => `Chatting with ${name}`,
  left: (name) => `${name} left the conversation`,
  botBack: "The assistant is back.",
  anAgent: "An agent",
  ourTeam: "support",
  trouble: "Sorry, something went wrong on our side. Please try again in a minute.",
  csatQuestion: "How would you rate the help you got?",
  csatScore: (score) => `Rated ${score} out of 5`,
  csatLabels: ["Very poor", "Poor", "OK", "Good", "Excellent"],
  csatThanks: "Thank you for your rating!",
  csatComment: "You can add a comment below if you like.",
  unread: (count) => `${count} new`,
  link: "link",
  image: "Image",
  attachment: "Attachment",
};

const DE: Strings = {
  ...EN,
  openChat: "Chat öffnen",
  closeChat: "Chat schließen",
  conversation: "Unterhaltung",
  yourMessage: "Ihre Nachricht",
  placeholder: "Nachricht eingeben…",
  send: "Senden",
  you: "Sie",
  assistant: "Assistent",
  agent: "Mitarbeiter",
  typing: "Der Assistent schreibt…",
  startOver: "Neu beginnen",
  startOverQuestion: "Neue Unterhaltung beginnen? Diese wird aus diesem Browser gelöscht.",
  startOverConfirm: "Ja, neu beginnen",
  cancel: "Abbrechen",
  online: "Online",
  connecting: "Verbinde…",
  offline: "Offline: Ihre Nachrichten werden gesendet, sobald die Verbindung wieder da ist",
  pending: "Noch nicht gesendet",
  sending: "Wird gesendet…",
  failed: "Nicht zugestellt",
  retry: "Erneut versuchen",
  readArticle: "Artikel lesen",
  related: "Verwandte Artikel",
  queued: (team, wait) =>
    `Wir verbinden Sie mit unserem Team ${team}…` +
    (wait === null ? "" : ` Übliche Wartezeit: ${Math.max(wait, 1)} Min.`),
  waitingFor: (team) => `Warten auf Team ${team}`,
  joined: (name) => `${name} ist der Unterhaltung beigetreten`,
  chattingWith: (name) => `Im Chat mit ${name}`,
  left: (name) => `${name} hat die Unterhaltung verlassen`,
  botBack: "Der Assistent ist wieder da.",
  anAgent: "Ein Mitarbeiter",
  ourTeam: "Support",
  trouble:
    "Entschuldigung, bei uns ist etwas schiefgelaufen. Bitte versuchen Sie es gleich noch einmal.",
  csatQuestion: "Wie bewerten Sie die Hilfe?",
  csatScore: (score) => `Bewertet mit ${score} von 5`,
  csatLabels: ["Sehr schlecht", "Schlecht", "Okay", "Gut", "Sehr gut"],
  csatThanks: "Danke für Ihre Bewertung!",
  csatComment: "Wenn Sie möchten, schreiben Sie unten noch einen Kommentar.",
  unread: (count) => `${count} neu`,
  link: "Link",
  image: "Bild",
  attachment: "Anhang",
};

const CATALOGUE: Record<string, Strings> = { en: EN, de: DE };

export function strings(language: string): Strings {
  return CATALOGUE[language] || CATALOGUE[language.split("-")[0]] || EN;
}
