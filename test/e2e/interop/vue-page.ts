// <ws-file-upload> from Vue 3 with no wrapper: `isCustomElement` tells the compiler the tag is not a
// component, `.prop` binds `auth` as a property and `@event` listens to the element's CustomEvents.
import 'ws-file-upload';
import { createApp, ref } from 'vue';

const app = createApp({
  setup() {
    const progressCount = ref(0);
    const stored = ref<string[]>([]);
    return {
      url: `ws://${location.host}/upload`,
      auth: { token: 'vue-token' },
      progressCount,
      stored,
      onSuccess: (event: CustomEvent<{ file: File }>) => stored.value.push(event.detail.file.name),
    };
  },
  template: `
    <main>
      <h1>Vue</h1>
      <ws-file-upload :url="url" multiple auto type="binary" :auth.prop="auth"
        @progress="progressCount++" @success="onSuccess"></ws-file-upload>
      <p id="progress-count">{{ progressCount }}</p>
      <ul id="stored"><li v-for="name in stored" :key="name">{{ name }}</li></ul>
    </main>`,
});
app.config.compilerOptions.isCustomElement = (tag) => tag === 'ws-file-upload';
app.mount('#root');
