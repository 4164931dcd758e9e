"""The chat contact channel: sessions a storefront opens for a customer, a WebSocket carrying
messages both ways (stored before they are acknowledged, replayed after a reconnect), agents'
replies pushed through Redis to whichever API process holds the customer's socket, and an
embeddable widget (`/chat/widget.js`, Greek and English, no CDN)."""
